export { asciiDomain, checkLocalPart, parseMailAddress, type AddressResult, type MailAddress } from './address';
export { srsForward, srsReverse } from './srs';
