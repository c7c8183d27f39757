/**
 * The private Sentinel group lives in src/local/private-sentinel-group.ts (the chaos drills,
 * src/drills/, run on it too); tests import it from here as before.
 */
export * from '../../src/local/private-sentinel-group.ts';
