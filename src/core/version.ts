/** The agent session protocol this build speaks; a controller refuses any other. */
export const PROTOCOL_VERSION = 1;
/** Switchyard's own version, reported by agents and the controller. */
export const YARD_VERSION = '0.1.0';
