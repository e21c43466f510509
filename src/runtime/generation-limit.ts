/** Most new tokens one generation may ask for, on every path (task(), model handles, `/api/task`, `/v1`, configured models). */
export const MAX_GENERATION_TOKENS = 32_768;
