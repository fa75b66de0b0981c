// Job events of an engine: typed `on`/`once`, and listeners whose errors never reach the job or the
// process.
import type { RefreshEngine } from './engine.js';
import type { RefreshJobEvent } from './jobs.js';

/** Events of {@link RefreshEngine}: `statechange` and `progress`, both carrying a {@link RefreshJobEvent}. */
export type RefreshEngineEventType = 'statechange' | 'progress';

/**
 * The event side of {@link RefreshEngine}: `statechange` and `progress` events carrying a
 * {@link RefreshJobEvent}, with typed `on`/`once` and listener errors contained.
 */
export class JobEventTarget extends EventTarget {
  /**
   * Typed `addEventListener` for `statechange` and `progress`; returns a function that removes the
   * listener. A listener that throws is reported on stderr (`console.error`) and never reaches the
   * job or the process (`uncaughtException`); so is one added with `addEventListener`.
   */
  on(type: RefreshEngineEventType, listener: (event: RefreshJobEvent) => void): () => void {
    const l = listener as unknown as (event: Event) => void;
    this.addEventListener(type, l);
    return () => this.removeEventListener(type, l);
  }

  /** Like {@link JobEventTarget.on}, for the next event of `type` only. */
  once(type: RefreshEngineEventType, listener: (event: RefreshJobEvent) => void): () => void {
    const l = listener as unknown as (event: Event) => void;
    this.addEventListener(type, l, { once: true });
    return () => this.removeEventListener(type, l);
  }

  /** `EventTarget.addEventListener`, with listener errors contained (see {@link JobEventTarget.on}). */
  override addEventListener(type: string, listener: ((event: Event) => void) | { handleEvent(event: Event): void }, options?: Parameters<EventTarget['addEventListener']>[2]): void {
    if (listener) super.addEventListener(type, containErrors(this.guarded, type, listener), options);
  }

  /** `EventTarget.removeEventListener` for a listener added with {@link JobEventTarget.addEventListener}. */
  override removeEventListener(type: string, listener: ((event: Event) => void) | { handleEvent(event: Event): void }, options?: Parameters<EventTarget['removeEventListener']>[2]): void {
    if (listener) super.removeEventListener(type, this.guarded.get(listener)?.get(type) ?? listener, options);
  }

  /** Error-containing wrappers of listeners, by listener and event type (so removal finds them). */
  private readonly guarded = new WeakMap<object, Map<string, PlainListener>>();
}

type PlainListener = (event: Event) => void;
/** What `addEventListener` takes: a function or an object with `handleEvent`. */
type AnyListener = PlainListener | { handleEvent(event: Event): void };

/** The wrapper of `listener` for `type`: calls it, and reports instead of rethrowing what it throws. */
function containErrors(guarded: WeakMap<object, Map<string, PlainListener>>, type: string, listener: AnyListener): PlainListener {
  let byType = guarded.get(listener);
  if (!byType) guarded.set(listener, (byType = new Map()));
  let wrapped = byType.get(type);
  if (!wrapped) {
    wrapped = (event: Event): void => {
      try {
        if (typeof listener === 'function') listener.call(event.currentTarget, event);
        else listener.handleEvent(event);
      } catch (err) {
        // A bug in the host's listener must not fail the job nor crash the process: say so, go on.
        console.error(`lakemap: a "${type}" event listener threw:`, err);
      }
    };
    byType.set(type, wrapped);
  }
  return wrapped;
}

