/**
 * Stand-in for '@sinclair/typebox/compiler' in the browser bundle (see vite.config.ts).
 *
 * The page runs under a Content-Security-Policy without 'unsafe-eval'. The protocol's decoder
 * tries TypeBox's compiler first (it generates code with `Function`) and falls back to the
 * interpreted checker when that throws. Here it throws before generating anything, so the app
 * never attempts code generation, logs no CSP violation, and ships without the compiler.
 */
export const TypeCompiler = {
  Compile(): never {
    throw new EvalError('code generation is disabled in the callwire web app');
  },
};
