// Schema-validated configuration: one validator for every configuration and flag set.
export { configProblems, deepFreeze, validateConfig, type ConfigProblem, type ValidateOptions } from './validate.js';
