// Who is logged in, for the pages that need to know (buttons by role).
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Whoami } from "./api";

export const MeContext = createContext<Whoami>({ role: "read" });

export const useMe = () => useContext(MeContext);
