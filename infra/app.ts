import { App } from 'aws-cdk-lib';
import { PluginReloadStack } from './stack/service-stack.js';

const app = new App();

new PluginReloadStack(app, 'PluginReload', {
  description: 'Vault plugin reload API: HTTP API, Lambda, DynamoDB catalog',
});
