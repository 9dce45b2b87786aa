/** secretvisor's version, set at build time from package.json. */
export const VERSION: string = process.env.SECRETVISOR_BUILD_VERSION ?? '0.0.0-dev';
