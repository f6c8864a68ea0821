import { mount } from "svelte";
import Admin from "./Admin.svelte";
import "../app.css";
import "./admin.css";

const target = document.getElementById("admin");
if (!target) throw new Error("admin.html lacks #admin");

export default mount(Admin, { target });
