/** A private registry's pull credentials, the pure part: the API's rules (RegistryCredentialsRequest). */

export const MAX_REGISTRY_USERNAME = 256;
export const MAX_REGISTRY_PASSWORD = 4096;

export type CredentialErrors = { username?: string; password?: string };

/** Characters as the API counts them (code points). */
const length = (text: string) => [...text].length;

/** Both required; at most 256 and 4096 characters. The user name is sent trimmed, the password as typed. */
export function validateCredentials(username: string, password: string): CredentialErrors {
  const errors: CredentialErrors = {};
  if (!username.trim()) errors.username = "Enter the registry's user name.";
  else if (length(username.trim()) > MAX_REGISTRY_USERNAME) errors.username = `Use at most ${MAX_REGISTRY_USERNAME} characters.`;
  if (!password) errors.password = "Enter the password or access token.";
  else if (length(password) > MAX_REGISTRY_PASSWORD) errors.password = `Use at most ${MAX_REGISTRY_PASSWORD} characters.`;
  return errors;
}
