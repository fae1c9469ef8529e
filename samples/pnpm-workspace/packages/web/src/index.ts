import { x } from "core";
