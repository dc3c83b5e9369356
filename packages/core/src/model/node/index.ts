export { fileSystemHandler, loadModelFromDir, saveModelToDir } from './file-system.js';
