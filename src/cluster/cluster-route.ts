import type { IncomingMessage, ServerResponse } from 'node:http';
import { json } from '../server/http-api.js';
import type { ClusterNode } from './cluster-node.js';

/**
 * `GET /api/cluster`: this node's id and every live node (id, address, connections, rooms owned, last seen),
 * read from the presence entries in NATS. An operators' read, served where `/api/rooms` is.
 */
export function clusterRoute(cluster: ClusterNode) {
  return async (request: IncomingMessage, response: ServerResponse, path: string): Promise<boolean> => {
    if (path !== '/api/cluster' || request.method !== 'GET') return false;
    try {
      json(response, 200, { node: cluster.nodeId, nodes: await cluster.nodes() });
    } catch {
      json(response, 503, { error: 'nats_unavailable' });
    }
    return true;
  };
}
