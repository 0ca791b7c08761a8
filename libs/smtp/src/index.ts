export { parseDsnReport, type DsnReport } from './dsn-report';
export { countReceived, receivedHeader, returnPathHeader, rfc5322Date, type TraceInput } from './trace-headers';
