export { initBackend, type BackendName, type BackendOptions } from './init-backend.js';
export { conv2dFilterGradient, registerConv2dBackpropFilter } from './conv2d-backprop-filter.js';
export { conv2dInputGradient, speedUpConv2dBackpropInput } from './conv2d-backprop-input.js';
