import { mount } from "svelte";
import Guest from "./Guest.svelte";
import Problem from "./Problem.svelte";
import { MEETING_SCRIPT_ID, parseMeeting } from "./lib/meeting";
import "../app.css";
import "./guest.css";

const target = document.getElementById("guest");
if (!target) throw new Error("guest.html lacks #guest");

const meeting = parseMeeting(document.getElementById(MEETING_SCRIPT_ID)?.textContent);

export default typeof meeting === "string"
  ? mount(Problem, { target, props: { message: meeting } })
  : mount(Guest, { target, props: { meeting } });
