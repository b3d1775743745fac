/** Close codes a client may send in the property tests, the server's own among them (a peer can send any code). */
export const clientCloseCodes = [1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009] as const;

/** Closes the server decides for what a client sent, as rows of the close-reason table. */
export const faultReasons = ['binary', 'flood', 'protocolError', 'badUtf8', 'tooLarge', 'internal'] as const;
