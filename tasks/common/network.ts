/** The agent's proxy and certificate settings, for calls that leave the machine. */
import * as tl from 'azure-pipelines-task-lib/task';
import type { NetworkSettings } from '../../src/core/network';

export function readAgentNetwork(): NetworkSettings {
  const proxy = tl.getHttpProxyConfiguration();
  const cert = tl.getHttpCertConfiguration();
  return {
    proxy: proxy
      ? { url: proxy.proxyUrl, username: proxy.proxyUsername, password: proxy.proxyPassword, bypass: proxy.proxyBypassHosts }
      : undefined,
    caFile: cert?.caFile,
    certFile: cert?.certFile,
    keyFile: cert?.keyFile,
    passphrase: cert?.passphrase,
    skipCertValidation: /^true$/i.test(tl.getVariable('Agent.SkipCertValidation') ?? ''),
  };
}
