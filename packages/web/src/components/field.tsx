import type { ComponentChildren } from 'preact';

let seq = 0;
/** A labelled input: every control has a visible label (screen readers, and tests find it by it). */
export function Field(p: {
  label: string;
  value: string;
  onInput: (v: string) => void;
  type?: 'text' | 'password';
  required?: boolean;
  autocomplete?: string;
  hint?: ComponentChildren;
  placeholder?: string;
}) {
  const id = `f${++seq}`;
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <input
        id={id}
        {...(p.type === 'password' ? { type: 'password' as const } : { type: 'text' as const })}
        value={p.value}
        required={p.required}
        autocomplete={p.autocomplete ?? 'off'}
        placeholder={p.placeholder}
        onInput={(e) => p.onInput((e.target as HTMLInputElement).value)}
      />
      {p.hint && <small>{p.hint}</small>}
    </div>
  );
}
