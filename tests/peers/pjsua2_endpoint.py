"""The pjsua2 endpoint every peer script starts the same way: quiet logs, events
handled on the main thread, one transport on loopback, the null sound device."""
import pjsua2 as pj


def start(transport=pj.PJSIP_TRANSPORT_UDP, no_vad=False):
    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.logConfig.level = 1
    cfg.logConfig.consoleLevel = 1
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    # With no_vad silence is sent, not suppressed: the stream runs like a real phone's.
    cfg.medConfig.noVad = no_vad
    ep.libInit(cfg)
    tcfg = pj.TransportConfig()
    tcfg.port = 0
    tcfg.boundAddress = "127.0.0.1"
    ep.transportCreate(transport, tcfg)
    ep.audDevManager().setNullDev()
    ep.libStart()
    return ep
