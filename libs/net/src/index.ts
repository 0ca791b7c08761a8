export * from './proxy-protocol';
export { readProxyHeader, type ProxyRead } from './proxy-header-reader';
export { ProxyProtocol, proxyProtocolFromConfig, type ClientPeer, type ProxyProtocolOptions } from './proxy-policy';
export { acceptTls } from './server-tls';
