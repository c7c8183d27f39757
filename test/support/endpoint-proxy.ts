/**
 * The primary-endpoint stand-in lives in src/local/endpoint-proxy.ts (the chaos drills,
 * src/drills/, use it too); tests import it from here as before.
 */
export * from '../../src/local/endpoint-proxy.ts';
