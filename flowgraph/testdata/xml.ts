// A small XML well-formedness checker for the SVG tests (Deno has no XML
// parser built in): declarations, comments, DOCTYPE, CDATA, balanced tags,
// quoted unique attributes, and only well-formed entity references.

const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;
const ENTITY = /^&(#[0-9]+|#x[0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);/;

function checkText(text: string, where: number): void {
  for (let i = text.indexOf("&"); i !== -1; i = text.indexOf("&", i + 1)) {
    if (!ENTITY.test(text.slice(i))) throw new Error(`bad entity at ${where + i}`);
  }
  if (text.includes("<")) throw new Error(`stray < near ${where}`);
}

/** Throws an Error naming the first problem; returns the text content of every element named `textTag`. */
export function checkXml(xml: string, textTag = "text"): string[] {
  const stack: string[] = [];
  const texts: string[] = [];
  let capture: string[] | null = null;
  let roots = 0;
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf("<", i);
    const text = xml.slice(i, lt === -1 ? xml.length : lt);
    checkText(text, i);
    if (stack.length === 0 && text.trim() !== "") throw new Error(`text outside the root at ${i}`);
    if (capture !== null) capture.push(text);
    if (lt === -1) break;
    const rest = xml.slice(lt);
    const skip = (open: string, close: string) => {
      if (!rest.startsWith(open)) return false;
      const end = xml.indexOf(close, lt + open.length);
      if (end === -1) throw new Error(`unterminated ${open} at ${lt}`);
      i = end + close.length;
      return true;
    };
    if (skip("<?", "?>") || skip("<!--", "-->") || skip("<!DOCTYPE", ">")) continue;
    if (rest.startsWith("<![CDATA[")) {
      const end = xml.indexOf("]]>", lt);
      if (end === -1) throw new Error("unterminated CDATA");
      capture?.push(xml.slice(lt + 9, end));
      i = end + 3;
      continue;
    }
    const gt = xml.indexOf(">", lt);
    if (gt === -1) throw new Error(`unterminated tag at ${lt}`);
    let tag = xml.slice(lt + 1, gt);
    if (tag.startsWith("/")) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}> at ${lt}`);
      if (name === textTag && capture !== null) {
        texts.push(capture.join(""));
        capture = null;
      }
      i = gt + 1;
      continue;
    }
    const selfClosing = tag.endsWith("/");
    if (selfClosing) tag = tag.slice(0, -1);
    const name = NAME.exec(tag)?.[0];
    if (name === undefined) throw new Error(`bad tag name at ${lt}`);
    let attrs = tag.slice(name.length);
    const seen = new Set<string>();
    for (;;) {
      attrs = attrs.trimStart();
      if (attrs === "") break;
      const m = /^([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/.exec(attrs);
      if (m === null) throw new Error(`bad attribute in <${name}> at ${lt}: ${attrs.slice(0, 30)}`);
      if (seen.has(m[1])) throw new Error(`duplicate attribute ${m[1]} at ${lt}`);
      seen.add(m[1]);
      checkText(m[3] ?? m[4], lt);
      attrs = attrs.slice(m[0].length);
    }
    if (stack.length === 0) roots++;
    if (roots > 1) throw new Error("more than one root element");
    if (!selfClosing) {
      stack.push(name);
      if (name === textTag) capture = [];
    } else if (name === textTag) {
      texts.push("");
    }
    i = gt + 1;
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.at(-1)}>`);
  if (roots !== 1) throw new Error("no root element");
  return texts;
}

/** Decodes the five XML entities and numeric references. */
export function xmlDecode(text: string): string {
  return text.replace(/&(#x[0-9A-Fa-f]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
    if (e.startsWith("#x")) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith("#")) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }[e] as string;
  });
}
