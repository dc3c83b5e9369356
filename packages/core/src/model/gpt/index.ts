export { GPT_SIZES, GPT2_VOCABULARY, gptParameterCount, type GptShape } from './sizes.js';
export { createGptModel, findGptLayer, GptLayer, gptForward, registerGptLayer, type GptConfig, type GptWeights, type LayerCache } from './layer.js';
export { languageModelLoss, PADDING_LABEL } from './loss.js';
export { generateTokens, pickToken, windowStart, type GenerateOptions } from './generate.js';
