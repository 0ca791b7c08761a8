export { COMMAND_LINE_OCTETS, commandLineLimit, isCommandTooLong } from './command-line';
export { parseMailDsn, parseRcptDsn, type DsnResult, type MailDsn, type ParamArgs, type RcptDsn } from './dsn-params';
export { parseDsnReport, type DsnReport } from './dsn-report';
export { countReceived, receivedHeader, returnPathHeader, rfc5322Date, type TraceInput } from './trace-headers';
