import { CappedCounts } from './capped-counts.js';

/**
 * Counts the connections each client address has open in one room, for the room's `maxPlacesPerIp`. A place
 * is counted from the moment its connection is accepted until its socket is forgotten, seated or queued alike;
 * the places held for the address's dropped connections are added by the caller (`take`'s `extra`).
 */
export class PlacesPerIp extends CappedCounts {}
