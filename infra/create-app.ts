import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { stackPropsFromContext } from './stack/app-context.js';
import { PluginReloadStack } from './stack/service-stack.js';

/**
 * The CDK app: one stack per stage, `-c stage=prod` deploying a stack of
 * its own with its own resource names. The AWS Solutions rules of cdk-nag
 * run at every synth, deploy and diff: a finding that is neither fixed nor
 * acknowledged with a reason stops it.
 *
 * @example
 * const app = createApp();
 * app.synth();
 */
export const createApp = (props?: AppProps): App => {
  const app = new App(props);
  const { stage, ...stackProps } = stackPropsFromContext(app);
  new PluginReloadStack(app, `PluginReload-${stage}`, stackProps);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
};
