export { startPop3, type RunningPop3 } from './pop3-server';
export type { Pop3Deps, Pop3Tuning, Pop3Store, Pop3Authenticator, Pop3Events } from './pop3-types';
