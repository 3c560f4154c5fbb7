/**
 * `js-hcl-parser` is HashiCorp's own HCL v1 parser (the one Vault reads
 * policies with) compiled to JavaScript. It ships no types of its own.
 */
declare module 'js-hcl-parser' {
  /**
   * The document as JSON text; when the input is not valid HCL, a message
   * that starts with "unable to parse" instead of throwing.
   */
  export function parse(input: string): string;
  export function stringify(json: string): string;
}
