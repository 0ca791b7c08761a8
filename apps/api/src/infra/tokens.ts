/** Injection token of the validated Config (libs/config). */
export const CONFIG = Symbol('CONFIG');
