export * from './codes.js';
export * from './names.js';
export * from './messages.js';
export * from './one2one.js';
export * from './peerjs.js';
export * from './codec.js';
