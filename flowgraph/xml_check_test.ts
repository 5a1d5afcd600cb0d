import assert from "node:assert/strict";
import { checkXml, xmlDecode } from "./testdata/xml.ts";

Deno.test("the XML checker accepts well-formed documents and refuses broken ones", () => {
  assert.deepEqual(
    checkXml('<?xml version="1.0"?><!-- c --><svg a="1"><text x="1">a &amp; b</text><g/></svg>'),
    ["a &amp; b"],
  );
  for (
    const bad of [
      "<svg><g></svg>",
      "<svg>a & b</svg>",
      '<svg a="1" a="2"/>',
      "<svg a=1/>",
      "<svg/><svg/>",
      "text<svg/>",
      "<svg>",
      '<svg a="<"/>',
    ]
  ) {
    assert.throws(() => checkXml(bad), Error, bad);
  }
  assert.equal(xmlDecode("a&amp;b&#45;&#x41;&lt;"), "a&b-A<");
});
