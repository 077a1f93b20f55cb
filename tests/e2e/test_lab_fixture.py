"""The browser fixtures work: a notebook opens, runs, shows an anywidget, and a click in the
page reaches the kernel."""

from __future__ import annotations

COUNTER = '''
import anywidget
import traitlets


class Counter(anywidget.AnyWidget):
    _esm = """
    export default {
      render({ model, el }) {
        const button = document.createElement("button");
        button.className = "probe-counter";
        const show = () => { button.textContent = `count is ${model.get("count")}`; };
        button.addEventListener("click", () => {
          model.set("count", model.get("count") + 1);
          model.save_changes();
        });
        model.on("change:count", show);
        show();
        el.appendChild(button);
        return () => model.off("change:count", show);
      },
    };
    """
    count = traitlets.Int(0).tag(sync=True)


counter = Counter()
counter
'''


def test_anywidget_click_reaches_the_kernel(notebook, lab):
    nb = notebook([COUNTER, "import os\nstore_env = os.environ['TOWERWIDGETS_STORE']"], run=True)
    button = nb.widget("button.probe-counter")
    assert button.text_content() == "count is 0"

    button.click()
    button.click()
    assert nb.kernel.wait_for("counter.count == 2", timeout=30)

    # The kernel sets, the page follows.
    nb.kernel.execute("counter.count = 41")
    nb.page.wait_for_function(
        "() => document.querySelector('button.probe-counter').textContent === 'count is 41'"
    )
    # Kernels of the lab use the test's temporary store, never the developer's.
    assert nb.kernel.eval("store_env") == str(lab.current_store)
    assert nb.page.page_errors == []
