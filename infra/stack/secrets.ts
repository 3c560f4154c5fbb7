import { type RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

export interface DeploymentSecretsProps {
  /**
   * The prefix of the secrets' names, such as `plugin-reload/prod`, so an
   * operator can find them by name. By default CloudFormation names them.
   */
  readonly namePrefix?: string;
  /**
   * Kept as long as the table: the token digests in the table can only be
   * checked with this HMAC key.
   */
  readonly removalPolicy?: RemovalPolicy;
  /** A customer managed key; by default `aws/secretsmanager`. */
  readonly encryptionKey?: IKey;
}

export interface DeploymentSecrets {
  /** The key tokens are hashed with before they are stored or looked up. */
  readonly tokenHmacKey: Secret;
  /** The root token, stored in the table at the first cold start. */
  readonly rootToken: Secret;
}

/**
 * Why the secrets are not rotated by Secrets Manager. A reviewer reads this
 * beside the finding it answers.
 */
const NO_ROTATION = {
  hmacKey:
    'Rotating the HMAC key would invalidate every token stored in the table at once; it is replaced deliberately, with a re-issue of all tokens, not on a schedule.',
  rootToken:
    'The root token is a break-glass credential that Vault also never rotates by itself: the operator revokes it through the API and puts a new value into this secret, which the function stores once at its next cold start.',
};

/**
 * Generates the token HMAC key and the root token at first deploy, in
 * Secrets Manager. CloudFormation asks Secrets Manager to make the values,
 * so they appear in no template, no CDK output and no deploy log.
 *
 * @example
 * const { tokenHmacKey, rootToken } = createDeploymentSecrets(stack, 'Secrets', {
 *   namePrefix: 'plugin-reload/prod',
 * });
 */
export const createDeploymentSecrets = (
  scope: Construct,
  id: string,
  props: DeploymentSecretsProps = {},
): DeploymentSecrets => {
  const name = (suffix: string) =>
    props.namePrefix ? `${props.namePrefix}/${suffix}` : undefined;

  const tokenHmacKey = new Secret(scope, `${id}TokenHmacKey`, {
    secretName: name('token-hmac-key'),
    description:
      'Key of the HMAC under which the plugin reload API stores tokens',
    encryptionKey: props.encryptionKey,
    removalPolicy: props.removalPolicy,
    generateSecretString: {
      passwordLength: 64,
      excludePunctuation: true,
      includeSpace: false,
    },
  });
  Validations.of(tokenHmacKey).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason: NO_ROTATION.hmacKey,
  });

  const rootToken = new Secret(scope, `${id}RootToken`, {
    secretName: name('root-token'),
    description: 'Root token of the plugin reload API (X-Vault-Token)',
    encryptionKey: props.encryptionKey,
    removalPolicy: props.removalPolicy,
    generateSecretString: {
      // About 238 bits from letters and digits, which survive any shell.
      passwordLength: 40,
      excludePunctuation: true,
      includeSpace: false,
    },
  });
  Validations.of(rootToken).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason: NO_ROTATION.rootToken,
  });

  return { tokenHmacKey, rootToken };
};
