import { describe, expect, it } from "vitest";
import { renderToStaticMarkup } from "react-dom/server";
import Markdown from "./Markdown";

const html = (text: string) => renderToStaticMarkup(<Markdown text={text} />);

describe("a description in Markdown", () => {
  it("renders the Markdown syntax", () => {
    const out = html("# Iris\n\nSpecies from **petal** sizes:\n\n- setosa\n- `virginica`\n");
    expect(out).toContain("<h3>Iris</h3>");
    expect(out).toContain("<strong>petal</strong>");
    expect(out).toContain("<li>setosa</li>");
    expect(out).toContain("<code>virginica</code>");
  });

  it("shows raw HTML as text: a <script> and an <img onerror> are not elements", () => {
    const out = html('Before <script>alert("x")</script> and <img src=x onerror="alert(1)"> after\n\n<script>\nalert(2)\n</script>\n');
    expect(out).not.toMatch(/<script/i);
    expect(out).not.toMatch(/<img/i);
    expect(out).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(out).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(out).toContain("alert(2)");
  });

  it("opens links in a new tab without the opener or the referrer, and drops javascript: URLs", () => {
    const out = html("[docs](https://example.com/docs) and [bad](javascript:alert(1))");
    expect(out).toContain('<a href="https://example.com/docs" target="_blank" rel="noopener noreferrer">docs</a>');
    expect(out).not.toContain("javascript:");
  });

  it("turns an image into a link to it, so the description loads nothing by itself", () => {
    const out = html("![the confusion matrix](https://example.com/cm.png)");
    expect(out).not.toMatch(/<img/i);
    expect(out).toContain(
      '<a href="https://example.com/cm.png" target="_blank" rel="noopener noreferrer" class="markdown-image">the confusion matrix</a>',
    );
  });
});
