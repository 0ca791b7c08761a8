import type { CommandTable } from '../imap-session';
import { append, idle } from './append-idle-commands';
import { folderCommands } from './folder-commands';
import { messageCommands } from './message-commands';
import { selectCommands, selectedStateCommands } from './select-commands';
import { anyStateCommands, compress, enable, namespace, preAuthCommands } from './session-commands';

/** Which command runs in which state (RFC 9051 §6); the selected state also has the authenticated ones. */
export function imapCommandTable(): CommandTable {
  return {
    any: anyStateCommands(),
    notAuthenticated: preAuthCommands(),
    authenticated: {
      ...folderCommands(),
      ...selectCommands(),
      ENABLE: enable,
      NAMESPACE: namespace,
      APPEND: append,
      IDLE: idle,
      COMPRESS: compress,
    },
    selected: { ...selectedStateCommands(), ...messageCommands() },
  };
}
