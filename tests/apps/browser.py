# A real browser for the app tests: Debian's headless Chromium driven by Selenium through
# Debian's chromedriver (no browser download). add_note_through_the_form() does what a
# person does on the notes page: type into the form, press the button, look at the page.
import os
import shutil

from PIL import Image

CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def driver(tmp):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
              "--disable-background-networking", "--disable-component-update",
              "--window-size=800,600", "--user-data-dir=" + os.path.join(tmp, "profile")):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


def add_note_through_the_form(url, text, tmp):
    """Open url, submit text through the form; (texts of the listed notes after the
    submit, screenshot of the page before, screenshot after)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    d = driver(tmp)
    try:
        d.set_page_load_timeout(60)
        d.get(url)
        first = os.path.join(tmp, "notes-before.png")
        d.save_screenshot(first)
        box = d.find_element(By.ID, "text")
        box.send_keys(text)
        before = d.find_element(By.ID, "notes")
        d.find_element(By.ID, "add").click()
        # the form posts, the server redirects to /, the browser loads the new page
        WebDriverWait(d, 60).until(lambda d: _stale(before))
        WebDriverWait(d, 60).until(lambda d: d.find_elements(By.ID, "notes"))
        notes = [li.text for li in d.find_elements(By.CSS_SELECTOR, "#notes li")]
        shot = os.path.join(tmp, "notes-after.png")
        d.save_screenshot(shot)
        return notes, first, shot
    finally:
        d.quit()


def render(html, tmp):
    """Screenshot of an HTML text as the same browser renders it from a file: the
    reference a served page is compared with."""
    path = os.path.join(tmp, "reference.html")
    with open(path, "w") as f:
        f.write(html)
    d = driver(tmp)
    try:
        d.get("file://" + path)
        shot = os.path.join(tmp, "reference.png")
        d.save_screenshot(shot)
        return shot
    finally:
        d.quit()


def _stale(el):
    try:
        el.is_enabled()
        return False
    except Exception:
        return True


def dark_text_rows(png):
    """Rows of the screenshot that hold dark (text) pixels: a blank or error page has
    almost none, the notes page has the heading, the form and each note."""
    img = Image.open(png).convert("L")
    w, h = img.size
    px = img.load()
    return sum(1 for y in range(h) if any(px[x, y] < 80 for x in range(0, w, 2)))
