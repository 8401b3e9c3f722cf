/** Shows the sign-in page until someone is signed in, then the app with the user's role. */
import { useCallback, useSyncExternalStore, type ReactNode } from "react";
import type { CognitoClient } from "./cognito";
import type { AuthManager } from "./session";
import { SignInPage } from "./SignIn";
import { SignedInUserProvider } from "./user";

export function AuthGate({
  manager,
  cognito,
  stage,
  localUser,
  children,
}: {
  manager: AuthManager;
  cognito: CognitoClient;
  stage: string;
  localUser: string | null;
  children: ReactNode;
}) {
  const subscribe = useCallback(
    (onChange: () => void) => {
      const off = manager.subscribe(onChange);
      return () => void off();
    },
    [manager],
  );
  const state = useSyncExternalStore(subscribe, () => manager.state);
  if (state.status === "signed-out") {
    return (
      <SignInPage
        cognito={cognito}
        reason={state.reason}
        stage={stage}
        localUser={localUser}
        onSignedIn={(tokens, username) => manager.signedIn(tokens, username)}
      />
    );
  }
  return (
    // Keyed by user: a different user starts with fresh screens and a fresh /me.
    <SignedInUserProvider key={state.session.username} session={state.session} manager={manager}>
      {children}
    </SignedInUserProvider>
  );
}
