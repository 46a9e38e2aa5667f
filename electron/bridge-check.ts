// Compile-time only (nothing imports it): the payload types in channels.ts must be exactly the
// console's (renderer/src/api/native.ts). Checked by `tsc -p electron/tsconfig.json`.

import type * as Native from '../renderer/src/api/native';
import type * as Wire from './channels';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;

export type BridgeTypesMatch = [
  Assert<Same<Wire.EngineState, Native.EngineState>>,
  Assert<Same<Wire.MenuCommand, Native.MenuCommand>>,
  Assert<Same<Wire.OpenedFile, Native.OpenedFile>>,
  Assert<Same<Wire.SavedFile, Native.SavedFile>>,
  Assert<Same<Wire.SaveOptions, Native.SaveOptions>>,
];
