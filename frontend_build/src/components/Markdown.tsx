/**
 * A model's description as Markdown, rendered safely: react-markdown builds React elements from the Markdown
 * syntax tree, so raw HTML in the text (a <script>, an <img onerror>) stays text (no rehype-raw, ever); URLs
 * pass its default filter (no javascript:); links open in a new tab with rel="noopener noreferrer"; an image
 * becomes a link to it, so a description loads nothing by itself (no tracking pixel, and nothing the page's CSP
 * would block); headings start at level 3, under the page's own. Loaded lazily with the model page's description.
 */
import ReactMarkdown, { type Components } from "react-markdown";

const SHIFTED = { h1: "h3", h2: "h4", h3: "h5", h4: "h6", h5: "h6", h6: "h6" } as const;

const components: Components = {
  a: ({ href, children }) => (
    <a href={href} target="_blank" rel="noopener noreferrer">
      {children}
    </a>
  ),
  img: ({ src, alt }) =>
    typeof src === "string" && src ? (
      <a href={src} target="_blank" rel="noopener noreferrer" className="markdown-image">
        {alt || src}
      </a>
    ) : (
      <>{alt}</>
    ),
  ...Object.fromEntries(
    Object.entries(SHIFTED).map(([from, To]) => [from, ({ children }: { children?: React.ReactNode }) => <To>{children}</To>]),
  ),
};

export default function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown" data-testid="markdown">
      <ReactMarkdown components={components}>{text}</ReactMarkdown>
    </div>
  );
}
