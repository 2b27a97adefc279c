/**
 * The ring of an incoming call, drawn with WebAudio (no sound file to ship): two tones,
 * two seconds on, four off, until stopped. `ringing` lets the page (and its tests) tell.
 */
export class Ringer {
  private ctx: AudioContext | null = null;
  private timer: number | undefined;
  ringing = false;

  start(): void {
    if (this.ringing) return;
    this.ringing = true;
    try {
      this.ctx ??= new AudioContext();
      void this.ctx.resume().catch(() => {});
    } catch {
      return; // no audio output: the screen still shows the call
    }
    const burst = () => this.burst();
    burst();
    this.timer = window.setInterval(burst, 6000);
  }

  stop(): void {
    this.ringing = false;
    clearInterval(this.timer);
    this.timer = undefined;
    void this.ctx?.suspend().catch(() => {});
  }

  private burst(): void {
    const ctx = this.ctx;
    if (!ctx) return;
    const gain = ctx.createGain();
    gain.gain.value = 0.08;
    gain.connect(ctx.destination);
    const end = ctx.currentTime + 2;
    for (const f of [440, 480]) {
      const o = ctx.createOscillator();
      o.frequency.value = f;
      o.connect(gain);
      o.start();
      o.stop(end);
    }
  }
}
