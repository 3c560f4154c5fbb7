import { createApp } from './create-app.js';

// Synthesized when the process ends, into the directory the CDK CLI names.
createApp();
