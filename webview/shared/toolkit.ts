// Every use of @vscode/webview-ui-toolkit goes through this module: the panels ask for "a button", "a text
// field", "a dropdown" and get elements with a small, library-neutral interface. The toolkit is archived
// upstream; moving to another component library (e.g. @vscode-elements/elements) means rewriting this file only.

import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDivider,
  vsCodeDropdown,
  vsCodeOption,
  vsCodeProgressRing,
  vsCodeTextArea,
  vsCodeTextField,
} from '@vscode/webview-ui-toolkit';
import { apply, Child, append, h, icon, Props } from './dom';

let registered = false;

/** Registers the components; call once before building the page. */
export function registerComponents(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(
    vsCodeButton(),
    vsCodeCheckbox(),
    vsCodeDivider(),
    vsCodeDropdown(),
    vsCodeOption(),
    vsCodeProgressRing(),
    vsCodeTextArea(),
    vsCodeTextField(),
  );
}

/** A control with a text value (text field, text area, dropdown). */
export interface ValueControl extends HTMLElement {
  value: string;
  disabled: boolean;
}

export interface CheckControl extends HTMLElement {
  checked: boolean;
  disabled: boolean;
}

export interface ButtonOptions extends Props {
  appearance?: 'primary' | 'secondary' | 'icon';
  /** A codicon name shown before the label (or alone, for appearance 'icon'). */
  icon?: string;
  disabled?: boolean;
  onClick?(e: MouseEvent): void;
}

export function button(label: string, opts: ButtonOptions = {}): ValueControl {
  registerComponents();
  const el = document.createElement('vscode-button') as ValueControl;
  apply(el, opts);
  el.setAttribute('appearance', opts.appearance ?? 'primary');
  if (opts.appearance === 'icon') {
    el.setAttribute('aria-label', label);
    if (!opts.title) el.title = label;
    if (opts.icon) el.appendChild(icon(opts.icon));
  } else {
    if (opts.icon) {
      const i = icon(opts.icon);
      i.setAttribute('slot', 'start');
      el.appendChild(i);
    }
    el.appendChild(document.createTextNode(label));
  }
  if (opts.disabled) el.disabled = true;
  if (opts.onClick) el.addEventListener('click', (e) => !el.disabled && opts.onClick?.(e));
  return el;
}

/** Changes a button's label, keeping its icon. */
export function setButtonLabel(el: HTMLElement, label: string, iconName?: string): void {
  while (el.firstChild) el.removeChild(el.firstChild);
  if (el.getAttribute('appearance') === 'icon') {
    el.setAttribute('aria-label', label);
    el.title = label;
    if (iconName) el.appendChild(icon(iconName));
    return;
  }
  if (iconName) {
    const i = icon(iconName);
    i.setAttribute('slot', 'start');
    el.appendChild(i);
  }
  el.appendChild(document.createTextNode(label));
}

export interface FieldOptions extends Props {
  label?: string;
  value?: string;
  placeholder?: string;
  size?: number;
  /** Shown at the end of the field (e.g. a unit). */
  suffix?: string;
  onInput?(value: string): void;
  onChange?(value: string): void;
}

export function textField(opts: FieldOptions = {}): ValueControl {
  registerComponents();
  const el = document.createElement('vscode-text-field') as ValueControl;
  apply(el, opts);
  if (opts.label) el.appendChild(document.createTextNode(opts.label));
  if (opts.placeholder) el.setAttribute('placeholder', opts.placeholder);
  if (opts.size) el.setAttribute('size', String(opts.size));
  if (opts.suffix) el.appendChild(h('span', { attrs: { slot: 'end' }, text: opts.suffix }));
  el.value = opts.value ?? '';
  wireValue(el, opts);
  return el;
}

export function textArea(opts: FieldOptions & { rows?: number } = {}): ValueControl {
  registerComponents();
  const el = document.createElement('vscode-text-area') as ValueControl;
  apply(el, opts);
  if (opts.label) el.appendChild(document.createTextNode(opts.label));
  if (opts.placeholder) el.setAttribute('placeholder', opts.placeholder);
  el.setAttribute('rows', String(opts.rows ?? 5));
  el.setAttribute('resize', 'vertical');
  el.value = opts.value ?? '';
  wireValue(el, opts);
  return el;
}

function wireValue(el: ValueControl, opts: FieldOptions): void {
  if (opts.onInput) el.addEventListener('input', () => opts.onInput?.(el.value));
  if (opts.onChange) el.addEventListener('change', () => opts.onChange?.(el.value));
}

export interface Choice {
  value: string;
  label: string;
  disabled?: boolean;
  title?: string;
}

export function dropdown(opts: Props & { choices: Choice[]; value?: string; label: string; onChange?(value: string): void }): ValueControl {
  registerComponents();
  const el = document.createElement('vscode-dropdown') as ValueControl;
  apply(el, opts);
  el.setAttribute('aria-label', opts.label);
  setChoices(el, opts.choices, opts.value);
  if (opts.onChange) el.addEventListener('change', () => opts.onChange?.(el.value));
  return el;
}

/** Replaces a dropdown's choices and selects `value` (or the first enabled choice). */
export function setChoices(el: ValueControl, choices: Choice[], value?: string): void {
  while (el.firstChild) el.removeChild(el.firstChild);
  const selected = choices.find((c) => c.value === value && !c.disabled) ?? choices.find((c) => !c.disabled);
  for (const c of choices) {
    const o = document.createElement('vscode-option') as ValueControl;
    o.setAttribute('value', c.value);
    o.textContent = c.label;
    if (c.title) o.title = c.title;
    if (c.disabled) o.setAttribute('disabled', '');
    if (c === selected) o.setAttribute('selected', '');
    el.appendChild(o);
  }
  if (selected) {
    el.value = selected.value;
    // The element settles its options asynchronously; select again once it has.
    queueMicrotask(() => {
      if (el.value !== selected.value) el.value = selected.value;
    });
  }
}

export function checkbox(label: string, opts: Props & { checked?: boolean; onChange?(checked: boolean): void } = {}): CheckControl {
  registerComponents();
  const el = document.createElement('vscode-checkbox') as CheckControl;
  apply(el, opts);
  el.appendChild(document.createTextNode(label));
  el.checked = opts.checked ?? false;
  if (opts.onChange) el.addEventListener('change', () => opts.onChange?.(el.checked));
  return el;
}

// Badges and tags are plain spans styled like the toolkit's: FAST's badge template binds a `style` attribute,
// which the panels' CSP (no 'unsafe-inline') blocks and reports as a violation on every render.
export function badge(text: string, props: Props = {}): HTMLElement {
  const el = h('span', props);
  el.classList.add('mk-badge');
  el.textContent = text;
  return el;
}

export function tag(text: string, props: Props = {}): HTMLElement {
  const el = h('span', props);
  el.classList.add('mk-tag');
  el.textContent = text;
  return el;
}

export function divider(): HTMLElement {
  registerComponents();
  const el = document.createElement('vscode-divider');
  el.setAttribute('role', 'separator');
  return el;
}

export function spinner(label = 'Working'): HTMLElement {
  registerComponents();
  const el = document.createElement('vscode-progress-ring');
  el.setAttribute('aria-label', label);
  el.className = 'spinner';
  return el;
}

/** A determinate progress bar (the toolkit has only a ring): role=progressbar, themed by progressBar.background. */
export interface ProgressBar {
  el: HTMLElement;
  set(done: number, total: number): void;
}

export function progressBar(label: string): ProgressBar {
  const fill = h('div', { class: 'mk-progress-fill' });
  const el = h('div', { class: 'mk-progress', role: 'progressbar', attrs: { 'aria-label': label, 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0' } }, fill);
  return {
    el,
    set(done, total) {
      const pct = total > 0 ? Math.min(100, (done * 100) / total) : 0;
      // CSSOM (not a style attribute), which the panel's CSP allows.
      fill.style.width = `${pct}%`;
      el.setAttribute('aria-valuenow', String(Math.round(pct)));
    },
  };
}

/** A labelled group of controls laid out as one form row. */
export function field(label: string, control: HTMLElement, ...extra: Child[]): HTMLElement {
  const id = control.id || `f${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const wrap = h('div', { class: 'mk-field' }, h('label', { class: 'mk-label', text: label, attrs: { for: id } }), control);
  append(wrap, extra);
  return wrap;
}
