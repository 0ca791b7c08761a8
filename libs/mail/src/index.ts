export { asciiDomain, checkLocalPart, parseMailAddress, type AddressResult, type MailAddress } from './address';
export { srsForward, srsReverse, srsSecret } from './srs';
export { isBounceLocalPart, parseVerpLocalPart, verpBounceAddress } from './verp';
