// A small Python syntax highlighter for the generated-code preview. It returns DOM nodes
// (spans with textContent), so the code is never parsed as HTML.

const KEYWORDS = new Set(("False None True and as assert async await break class continue def del elif else except "
  + "finally for from global if import in is lambda nonlocal not or pass raise return try while with yield").split(" "));
const BUILTINS = new Set("print len range int float str dict list tuple set super isinstance self".split(" "));
const TOKEN = /(#[^\n]*)|("""[\s\S]*?"""|'''[\s\S]*?'''|[rbfuRBFU]{0,2}"(?:\\.|[^"\\\n])*"|[rbfuRBFU]{0,2}'(?:\\.|[^'\\\n])*')|(@[A-Za-z_][\w.]*)|(\b\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?\b)|([A-Za-z_]\w*)/g;

/**
 * Split Python source into [kind, text] tokens; kinds: comment, string, decorator, number,
 * keyword, builtin, def (a name after def/class), text.
 * @param {string} code @returns {[string, string][]}
 */
export function tokenize(code) {
  /** @type {[string, string][]} */
  const out = [];
  let last = 0;
  let prevWord = "";
  for (const m of code.matchAll(TOKEN)) {
    const at = m.index ?? 0;
    if (at > last) out.push(["text", code.slice(last, at)]);
    const [text, comment, string, decorator, number, word] = m;
    if (comment) out.push(["comment", text]);
    else if (string) out.push(["string", text]);
    else if (decorator) out.push(["decorator", text]);
    else if (number) out.push(["number", text]);
    else if (word) {
      const kind = KEYWORDS.has(word) ? "keyword" : (prevWord === "def" || prevWord === "class") ? "def" : BUILTINS.has(word) ? "builtin" : "text";
      out.push([kind, text]);
      prevWord = word;
      last = at + text.length;
      continue;
    }
    prevWord = "";
    last = at + text.length;
  }
  if (last < code.length) out.push(["text", code.slice(last)]);
  return out;
}

/** A <pre><code> with highlighted spans. @param {string} code */
export function highlight(code) {
  const pre = document.createElement("pre");
  pre.className = "tw-code";
  // It scrolls: keyboard users reach it (Tab) and scroll it with the arrow keys (axe-core's
  // scrollable-region-focusable).
  pre.tabIndex = 0;
  pre.setAttribute("role", "region");
  pre.setAttribute("aria-label", "Generated code");
  const el = document.createElement("code");
  for (const [kind, text] of tokenize(code)) {
    if (kind === "text") { el.appendChild(document.createTextNode(text)); continue; }
    const span = document.createElement("span");
    span.className = `tw-tok-${kind}`;
    span.textContent = text;
    el.appendChild(span);
  }
  pre.appendChild(el);
  return pre;
}
