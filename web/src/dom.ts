// The only way the page builds markup: elements from a fixed tag, attributes set with
// setAttribute (never event-handler attributes), and every piece of data added as a text node.
// Nothing the log, the server or the URL says is ever parsed as HTML (the page also runs under
// Trusted Types, so an innerHTML assignment with a string would throw).
export type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (/^on/i.test(name)) throw new Error(`event handler attribute ${name} refused; use addEventListener`);
    if (value === null || value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

export function clear(element: Element): void {
  while (element.firstChild) element.removeChild(element.firstChild);
}

/** A definition list from label/value pairs; empty values are left out. */
export function fields(pairs: [string, Child | Child[]][]): HTMLDListElement {
  const list = h('dl', { class: 'fields' });
  for (const [label, value] of pairs) {
    if (value === undefined || value === null || value === '' || value === false) continue;
    append(list, h('dt', {}, label), h('dd', {}, value));
  }
  return list;
}

export function code(text: string): HTMLElement {
  return h('code', { class: 'value' }, text);
}

export function time(seconds: number): HTMLElement {
  const date = new Date(seconds * 1000);
  return h(
    'time',
    { datetime: date.toISOString() },
    date.toISOString().replace('T', ' ').replace('.000Z', ' UTC'),
  );
}
