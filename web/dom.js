// Builds DOM nodes without HTML strings, so no server text is ever parsed as markup and the
// strict CSP holds (no inline style or script is ever created).
const SVG_NS = 'http://www.w3.org/2000/svg';

function build(node, attributes, children) {
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'on') {
      for (const [event, listener] of Object.entries(value)) node.addEventListener(event, listener);
    } else {
      node.setAttribute(name, value === true ? '' : String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// h('button', {type: 'submit', on: {click}}, 'Save')
export function h(tag, attributes, ...children) {
  return build(document.createElement(tag), attributes, children);
}

export function svg(tag, attributes, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attributes, children);
}

// Parses an SVG document the server produced (the TOTP QR code) into a node; scripts and
// event attributes are not copied.
export function importSvg(text) {
  const parsed = new DOMParser().parseFromString(text, 'image/svg+xml');
  const root = parsed.documentElement;
  if (root.nodeName !== 'svg') return null;
  const copy = (source) => {
    if (source.nodeType !== Node.ELEMENT_NODE || source.nodeName === 'script') return null;
    const node = document.createElementNS(SVG_NS, source.nodeName);
    for (const { name, value } of source.attributes) {
      if (!name.startsWith('on') && name !== 'style') node.setAttribute(name, value);
    }
    for (const child of source.childNodes) {
      const copied = copy(child);
      if (copied) node.append(copied);
    }
    return node;
  };
  return copy(root);
}
