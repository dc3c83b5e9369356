export { initBackend, type BackendName, type BackendOptions } from './init-backend.js';
export { conv2dFilterGradient, registerConv2dBackpropFilter } from './conv2d-backprop-filter.js';
