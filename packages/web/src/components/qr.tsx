import { generate } from 'lean-qr';

/** A QR code drawn as SVG rectangles: no canvas, no data: URL (the CSP forbids those). */
export function Qr({ text, label }: { text: string; label: string }) {
  const code = generate(text);
  const size = code.size;
  const cells = [];
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) if (code.get(x, y)) cells.push(<rect key={`${x}.${y}`} x={x} y={y} width={1} height={1} />);
  return (
    <svg class="qr" role="img" aria-label={label} viewBox={`-2 -2 ${size + 4} ${size + 4}`} width={180} height={180}>
      <rect x={-2} y={-2} width={size + 4} height={size + 4} fill="#fff" />
      <g fill="#000">{cells}</g>
    </svg>
  );
}
