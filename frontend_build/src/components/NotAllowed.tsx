/** A screen the user's role does not allow: what it would take, and the way back to the models. */
import { href } from "../lib/routes";
import { PageTitle } from "./PageTitle";

export function NotAllowed({ reason }: { reason: string }) {
  return (
    <section className="page">
      <PageTitle>Not allowed</PageTitle>
      <p>{reason}</p>
      <a href={href({ page: "list" })}>Go to the models</a>
    </section>
  );
}
