// Imported for their side effects: esbuild bundles them into app.css.
declare module "*.css";
