import type { InspectionEvent } from 'xstate';
import { createBridgeInspector, forwardInspection } from './actor-inspection.js';
import { startInspectorBridge, type InspectorBridgeOptions } from './inspector-bridge.js';

export interface RunningInspector {
  /** The page that shows the live actors in the Stately inspector. */
  readonly url: string;
  /** Where inspection events are relayed (a `createWebSocketReceiver` can listen here too). */
  readonly wsUrl: string;
  /** Pass as createAnteroomServer's `inspect` option. */
  readonly inspect: (event: InspectionEvent) => void;
  close(): Promise<void>;
}

/** `--inspect`: a local inspector bridge, and an inspector that streams the actors' events to it. */
export async function startInspector(options: InspectorBridgeOptions = {}): Promise<RunningInspector> {
  const bridge = await startInspectorBridge(options);
  const inspector = createBridgeInspector(bridge.wsUrl);
  return {
    url: bridge.url,
    wsUrl: bridge.wsUrl,
    inspect: forwardInspection(inspector),
    async close() {
      inspector.stop();
      await bridge.close();
    },
  };
}
