"""What a person sees on screen, measured in the browser: the smallest computed font size of visible text."""

# Every text node with letters or digits, inside open shadow roots too, whose element is rendered (not
# display:none, not visibility:hidden, not transparent) and whose box intersects the viewport; returns the
# smallest computed font-size with a sample of the text that has it.
SMALLEST_FONT_JS = """
() => {
  const out = [];
  const vw = window.innerWidth, vh = window.innerHeight;
  const visible = (el) => {
    for (let e = el; e; e = e.parentElement || (e.getRootNode && e.getRootNode().host)) {
      const cs = getComputedStyle(e);
      if (cs.display === 'none' || cs.visibility === 'hidden' || cs.visibility === 'collapse'
          || Number(cs.opacity) === 0) return false;
      if (e === document.documentElement) break;
    }
    return true;
  };
  const walk = (root) => {
    const it = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let n = it.currentNode; n; n = it.nextNode()) {
      if (n.nodeType === Node.ELEMENT_NODE) {
        if (n.shadowRoot) walk(n.shadowRoot);
        continue;
      }
      const text = (n.nodeValue || '').trim();
      if (!/[\\p{L}\\p{N}]/u.test(text)) continue;
      const el = n.parentElement;
      if (!el || el.closest('template,script,style,title,desc')) continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      const r = range.getBoundingClientRect();
      if (r.width < 1 || r.height < 1 || r.bottom <= 0 || r.right <= 0 || r.top >= vh || r.left >= vw) continue;
      if (!visible(el)) continue;
      // SVG text is drawn at its font size times the drawing's scale (a viewBox shrunk to its column)
      const m = el instanceof SVGElement && el.getScreenCTM ? el.getScreenCTM() : null;
      const scale = m ? Math.hypot(m.a, m.b) : 1;  // rotated text too
      out.push({size: parseFloat(getComputedStyle(el).fontSize) * scale, text: text.slice(0, 60),
                tag: el.tagName.toLowerCase(), cls: String(el.className && el.className.baseVal !== undefined
                  ? el.className.baseVal : el.className).slice(0, 60)});
    }
  };
  walk(document.body);
  out.sort((a, b) => a.size - b.size);
  return out;
}
"""


def smallest_fonts(page, n: int = 8) -> list[dict]:
    """The n visible text pieces with the smallest computed font size, smallest first."""
    return page.evaluate(SMALLEST_FONT_JS)[:n]


def smallest_canvas_font(page) -> float:
    """The smallest font the trace view drew on its canvas (it records it: canvas text is not in the DOM)."""
    return float(page.locator(".lstmlab-trace").first.get_attribute("data-smallest-font"))
