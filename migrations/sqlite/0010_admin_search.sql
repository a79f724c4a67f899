-- Search in Admin Management through an index: a trigram full-text index over the admins'
-- name, email and username (FTS5, external content: the text stays in `admins`), kept in step
-- by triggers. A search of three characters or more reads the admins the index names, then
-- checks them with the same LIKE as before; shorter searches scan.

CREATE VIRTUAL TABLE admin_search USING fts5 (
    name, email, username,
    content = 'admins', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO admin_search (admin_search) VALUES ('rebuild');

CREATE TRIGGER admin_search_added AFTER INSERT ON admins
BEGIN
    INSERT INTO admin_search (rowid, name, email, username)
    VALUES (NEW.id, NEW.name, NEW.email, NEW.username);
END;

-- Admins are never deleted (deactivated instead).
CREATE TRIGGER admin_search_changed AFTER UPDATE OF name, email, username ON admins
BEGIN
    INSERT INTO admin_search (admin_search, rowid, name, email, username)
    VALUES ('delete', OLD.id, OLD.name, OLD.email, OLD.username);
    INSERT INTO admin_search (rowid, name, email, username)
    VALUES (NEW.id, NEW.name, NEW.email, NEW.username);
END;
